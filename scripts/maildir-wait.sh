#!/usr/bin/env bash
# maildir-wait.sh DIR COUNT [TIMEOUT_SECONDS]
# Wait until DIR/maildir/new (an instance made by postfix-harness.sh start DIR)
# holds at least COUNT messages. Prints the count; exit 1 on timeout (default 30 s).
exec "$(dirname "$0")/postfix-harness.sh" wait-mail "$@"
