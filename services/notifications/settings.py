"""The notifications service's own settings: where each channel's provider is, how long
a provider may take, how deliveries are retried, and how fast broadcasts go out. Read
once, when the channels are built (``channels.Channels``)."""

SMS_GATEWAY_URL_KEY = "SMS_GATEWAY_URL"
SMS_GATEWAY_TOKEN_KEY = "SMS_GATEWAY_TOKEN"
WHATSAPP_API_URL_KEY = "WHATSAPP_API_URL"
WHATSAPP_API_TOKEN_KEY = "WHATSAPP_API_TOKEN"
SMTP_URL_KEY = "SMTP_URL"
PROVIDER_TIMEOUT_KEY = "KOMPOR_PROVIDER_TIMEOUT"
DELIVERY_BASE_DELAY_KEY = "KOMPOR_DELIVERY_BASE_DELAY"
DELIVERY_MAX_DELAY_KEY = "KOMPOR_DELIVERY_MAX_DELAY"
DELIVERY_MAX_ATTEMPTS_KEY = "KOMPOR_DELIVERY_MAX_ATTEMPTS"
BROADCAST_RATE_KEY = "KOMPOR_BROADCAST_RATE"

DEFAULT_PROVIDER_TIMEOUT = 10.0
DEFAULT_BROADCAST_RATE = 20  # messages a second, per process (``domain.BroadcastPace``)
# the delivery defaults are those of ``domain.DeliveryPolicy``
