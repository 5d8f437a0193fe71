"""crmsync: WhatsApp CRM data in your own warehouse."""
