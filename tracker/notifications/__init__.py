"""In-app notifications (thông báo), and e-mail when SMTP is configured."""
