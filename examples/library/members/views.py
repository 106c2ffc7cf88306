from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from rest_framework import generics, permissions

from members.models import Member
from members.serializers import MemberSerializer


@login_required
def profile(request):
    return render(request, "members/profile.html")


class Me(generics.RetrieveAPIView):
    serializer_class = MemberSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_object(self):
        return generics.get_object_or_404(Member, user=self.request.user)
