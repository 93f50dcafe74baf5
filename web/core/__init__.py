"""What every page shares: extensions (login, CSRF, the ledger), languages, the
layout (menu, scope badge), security headers, error pages, labels of the
ledger's codes and the Chinese texts of domain errors."""
