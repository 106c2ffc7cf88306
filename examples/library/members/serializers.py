from rest_framework import serializers

from members.models import Member


class MemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")
    open_loans = serializers.SerializerMethodField()

    class Meta:
        model = Member
        fields = ["card_number", "username", "max_loans", "joined", "open_loans"]

    def get_open_loans(self, member: Member) -> int:
        return member.open_loans().count()
