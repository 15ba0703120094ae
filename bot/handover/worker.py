"""The delivery worker: sends due deliveries from the outbox with retries; several may run at once.

Command line:
  python -m bot.handover.worker            run until stopped (SIGINT/SIGTERM)
  python -m bot.handover.worker --check    print which deliveries are on; exit 2 if one is partly configured
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from datetime import timedelta
from typing import Dict, List, Optional

from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings, get_settings
from bot.handover.outbox import Outbox, RetryPolicy
from bot.handover.requests import ConsultationStore, utc_now
from bot.handover.senders import DeliveryError, HandoverConfigError, Sender, describe, senders_for

logger = logging.getLogger(__name__)


def retry_policy(settings: Settings) -> RetryPolicy:
    """The retry policy from the settings; the lease outlasts one send's timeout with room to spare."""
    return RetryPolicy(
        first_delay=timedelta(seconds=settings.delivery_first_retry_s),
        give_up_after=timedelta(hours=settings.delivery_give_up_hours),
        lease=timedelta(seconds=max(60.0, settings.delivery_timeout_s * 6)),
    )


class DeliveryWorker:
    """Claims due deliveries and sends each with its channel's sender."""

    def __init__(self, senders: Dict[str, Sender], policy: RetryPolicy,
                 outbox: Optional[Outbox] = None, requests: Optional[ConsultationStore] = None) -> None:
        self.senders = senders
        self.policy = policy
        self.outbox = outbox or Outbox()
        self.requests = requests or ConsultationStore()

    def run_once(self) -> List[str]:
        """Send every delivery due now; one outcome line per delivery tried."""
        outcomes = []
        for delivery in self.outbox.claim_due(utc_now(), self.policy):
            request = self.requests.get(delivery.request_id)
            sender = self.senders.get(delivery.channel)
            if request is None:
                continue
            try:
                if sender is None:
                    raise DeliveryError(f"the {delivery.channel} delivery is not configured in this worker")
                sender.send(request, delivery.idempotency_key, utc_now())
            except DeliveryError as error:
                self.outbox.mark_attempt_failed(delivery.id, str(error), utc_now(), self.policy)
                logger.warning("delivery %s (%s) attempt %d failed: %s", delivery.id, delivery.channel, delivery.attempts, error)
                outcomes.append(f"{delivery.id}:failed")
            except Exception as error:  # noqa: BLE001 - one bad delivery must not stop the others
                logger.exception("delivery %s (%s) failed unexpectedly", delivery.id, delivery.channel)
                self.outbox.mark_attempt_failed(delivery.id, f"unexpected {type(error).__name__}: {error}", utc_now(), self.policy)
                outcomes.append(f"{delivery.id}:failed")
            else:
                self.outbox.mark_sent(delivery.id, utc_now())
                logger.info("delivery %s (%s) of request %s sent", delivery.id, delivery.channel, delivery.request_id)
                outcomes.append(f"{delivery.id}:sent")
        return outcomes

    def run_forever(self, stop: threading.Event, poll_s: float) -> None:
        """Send due deliveries until `stop` is set; a database error is logged and retried."""
        while not stop.is_set():
            try:
                worked = self.run_once()
            except SQLAlchemyError:
                logger.exception("the outbox could not be read; trying again")
                worked = []
            if not worked:
                stop.wait(poll_s)


def main(argv: Optional[List[str]] = None) -> int:
    """Check the configuration, or run the worker."""
    parser = argparse.ArgumentParser(prog="python -m bot.handover.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="print which deliveries are on and exit")
    args = parser.parse_args(argv)
    settings = get_settings()
    try:
        line = describe(settings)
        senders = senders_for(settings)
    except HandoverConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(line, flush=True)
    if args.check:
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    from bot.privacy import MaskingFilter

    for handler in logging.getLogger().handlers:
        handler.addFilter(MaskingFilter())
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    DeliveryWorker(senders, retry_policy(settings)).run_forever(stop, settings.delivery_poll_s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
