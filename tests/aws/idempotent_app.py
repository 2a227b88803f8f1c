"""An app with one idempotent queue handler, for the generator's idempotency-table test."""

from corefn import App, QueueMessage

app = App("once")


@app.queue("orders", idempotent=True)
def take_order(message: QueueMessage) -> None:
    print(message.id)
