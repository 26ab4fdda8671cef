"""Heavy work for one person gives way to the chat: a helper thread that runs it through
offload_low lowers its own priority; the process's main thread (the chat's event loop)
never does."""

from __future__ import annotations

import os
import threading

from talkrooms.accounts import passwords
from talkrooms.storage import database


def priority_after_hashing() -> int:
    database.offload_low(passwords.hash_password, "a password that is long enough")
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_a_helper_thread_doing_heavy_work_runs_at_a_lower_priority():
    main_before = os.getpriority(os.PRIO_PROCESS, os.getpid())
    seen: list[int] = []
    helper = threading.Thread(target=lambda: seen.append(priority_after_hashing()))
    helper.start()
    helper.join(timeout=30)
    assert seen == [max(main_before, database.LOW_PRIORITY_NICE)]
    # The main thread ran it too (inline, as the CLI does) and kept its priority.
    assert priority_after_hashing() == main_before
