"""Web Push to users' phones (VAPID, RFC 8030/8291/8292): the subscriptions a browser
registers, the server's keys, and the one function that sends (docs/push.md)."""
