"""Hashing threads give way to the chat: a helper thread that hashes lowers its own
priority; the process's main thread (the chat's event loop) never does."""

from __future__ import annotations

import os
import threading

from talkrooms.accounts import passwords


def priority_after_hashing() -> int:
    passwords.hash_password("a password that is long enough")
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_a_helper_thread_that_hashes_runs_at_a_lower_priority():
    main_before = os.getpriority(os.PRIO_PROCESS, os.getpid())
    seen: list[int] = []
    helper = threading.Thread(target=lambda: seen.append(priority_after_hashing()))
    helper.start()
    helper.join(timeout=30)
    assert seen == [max(main_before, passwords.HASHING_NICE)]
    # The main thread hashed too (inline, as the CLI does) and kept its priority.
    assert priority_after_hashing() == main_before
