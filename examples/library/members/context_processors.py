from members.models import Member


def member(request):
    """The signed-in member (None for anonymous users and staff without a card)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"member": None}
    return {"member": Member.objects.filter(user=user).first()}
