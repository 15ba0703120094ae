"""Hand-over to a person at the firm: consented requests, their outbox and the delivery worker."""
