"""The inbox of reminders and notices, and the unread badge in the header."""
