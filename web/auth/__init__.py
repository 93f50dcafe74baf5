"""Sign-in, sign-out, the language choice and the account page (password change)."""
