"""The notifications service's own settings: where each channel's provider is, how long
a provider may take, and how deliveries are retried. Read once, when the channels are
built (``channels.Channels``)."""

SMS_GATEWAY_URL_KEY = "SMS_GATEWAY_URL"
SMS_GATEWAY_TOKEN_KEY = "SMS_GATEWAY_TOKEN"
WHATSAPP_API_URL_KEY = "WHATSAPP_API_URL"
WHATSAPP_API_TOKEN_KEY = "WHATSAPP_API_TOKEN"
SMTP_URL_KEY = "SMTP_URL"
PROVIDER_TIMEOUT_KEY = "KOMPOR_PROVIDER_TIMEOUT"
DELIVERY_BASE_DELAY_KEY = "KOMPOR_DELIVERY_BASE_DELAY"
DELIVERY_MAX_DELAY_KEY = "KOMPOR_DELIVERY_MAX_DELAY"
DELIVERY_MAX_ATTEMPTS_KEY = "KOMPOR_DELIVERY_MAX_ATTEMPTS"

DEFAULT_PROVIDER_TIMEOUT = 10.0
# the delivery defaults are those of ``domain.DeliveryPolicy``
