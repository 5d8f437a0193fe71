"""The fixed credentials every sandbox accepts (documented in the README)."""

CHATMAN_API_KEY = "sandbox-chatman-key"
DMCHAMP_API_KEY = "sandbox-dmchamp-key"
WHAUTOMATE_API_KEY = "sandbox-whautomate-key"
WAABOT_EMAIL = "sandbox@waabot.test"
WAABOT_PASSWORD = "sandbox-waabot-password"
WAABOT_SESSION_ID = "sandbox-session"
WAABOT_INSTANCE_TOKEN = "sandbox-instance-token"
CHATRACE_TOKEN = "sandbox-chatrace-token"

# Every secret above, for tests that check none of them leaks.
ALL_SECRETS = (
    CHATMAN_API_KEY,
    DMCHAMP_API_KEY,
    WHAUTOMATE_API_KEY,
    WAABOT_PASSWORD,
    WAABOT_INSTANCE_TOKEN,
    CHATRACE_TOKEN,
)
