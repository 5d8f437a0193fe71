"""One module per emulated provider."""

from crmsync.sandbox.providers.chatman import Chatman
from crmsync.sandbox.providers.chatrace import Chatrace
from crmsync.sandbox.providers.dmchamp import DmChamp
from crmsync.sandbox.providers.waabot import Waabot
from crmsync.sandbox.providers.whautomate import Whautomate

PROVIDER_CLASSES = (Chatman, DmChamp, Whautomate, Waabot, Chatrace)
