"""An emulator of the five providers' APIs, faithful to shared/providers/CONTRACT.md."""
