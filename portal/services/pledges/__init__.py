"""The pledge agreement (giao ước thi đua), its signatures and the members' registered targets."""
