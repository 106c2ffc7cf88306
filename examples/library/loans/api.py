"""Loans over the API: a member lists and borrows with POST, returns with POST .../return/."""

from django.shortcuts import get_object_or_404
from members.models import Member
from rest_framework import generics, permissions, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from loans.models import Loan, LoanRefused
from loans.serializers import LoanSerializer


def _member(request) -> Member:
    member = Member.objects.filter(user=request.user).first()
    if member is None:
        raise PermissionDenied("Only members with a library card have loans.")
    return member


class LoanList(generics.ListCreateAPIView):
    serializer_class = LoanSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        return Loan.objects.filter(member=_member(self.request)).select_related("book")

    def perform_create(self, serializer):
        try:
            serializer.instance = Loan.borrow(
                _member(self.request), serializer.validated_data["book"]
            )
        except LoanRefused as exc:
            raise serializers.ValidationError({"book": [str(exc)]}) from None


class LoanDetail(generics.RetrieveAPIView):
    serializer_class = LoanSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        return Loan.objects.filter(member=_member(self.request)).select_related("book")


class ReturnLoan(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def post(self, request, pk):
        loan = get_object_or_404(Loan.objects.select_related("book"), pk=pk)
        if loan.member != _member(request):
            raise PermissionDenied("You can only return your own loans.")
        try:
            loan.give_back()
        except LoanRefused as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(LoanSerializer(loan).data)
