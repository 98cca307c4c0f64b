"""Settings pages of a tenant host (`/settings/`): thin views over the accounts and CRM
services, which hold every rule and permission check (decision 0013)."""
