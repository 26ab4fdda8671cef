"""TalkRooms: self-hostable real-time chat rooms."""
