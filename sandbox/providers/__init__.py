"""One module per emulated provider."""

from sandbox.providers.chatman import Chatman
from sandbox.providers.chatrace import Chatrace
from sandbox.providers.dmchamp import DmChamp
from sandbox.providers.waabot import Waabot
from sandbox.providers.whautomate import Whautomate

PROVIDER_CLASSES = (Chatman, DmChamp, Whautomate, Waabot, Chatrace)
