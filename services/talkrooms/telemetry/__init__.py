"""What every layer may record: the Prometheus metric objects and the JSON log format.

May import: protocol, settings. Nothing else of TalkRooms.
"""
