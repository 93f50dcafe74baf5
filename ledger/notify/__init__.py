"""Being told: deadline reminders into the inbox and the channels, and their
delivery by e-mail and webhook with retries."""
