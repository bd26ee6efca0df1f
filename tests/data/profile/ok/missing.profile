name: missing
description: its client is not installed
requires: /nonexistent/mailrig-client
run * *: /nonexistent/mailrig-client {port}
