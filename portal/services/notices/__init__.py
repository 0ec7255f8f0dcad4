"""Notices: who waits on what (`events`), each user's list (`inbox`), deadlines near, the e-mail digest."""
