"""One delivery of the calling user: redeliver a dead one by hand."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from sqlmodel import Session

from api.deps import SessionDep, UserDep, not_found, utcnow
from api.params import Id
from api.schemas import DeliveryPublic
from store.deliveries import DEAD, get_delivery, redeliver
from store.hits import WEBHOOK
from store.tables import Delivery
from store.webhooks import get_webhook

router = APIRouter(prefix="/v1/deliveries", tags=["webhooks"])


def to_public(d: Delivery) -> DeliveryPublic:
    return DeliveryPublic(
        id=d.id or 0,
        event_type=d.event_type,
        hit_id=d.hit_id,
        status=d.status,
        attempts=d.attempts,
        last_status_code=d.last_status_code,
        last_error=d.last_error,
        created_at=d.created_at,
        updated_at=d.updated_at,
        next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
        sent_at=d.sent_at,
    )


@router.post(
    "/{delivery_id:int}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryPublic,
    summary="Redeliver a dead delivery now (same webhook-id, so receivers can drop repeats)",
    responses={409: {"description": "The delivery is not dead, or its webhook is gone"}},
)
def retry(delivery_id: Id, session: SessionDep, user: UserDep) -> DeliveryPublic:
    return to_public(retry_delivery(session=session, user_id=user.id or 0, delivery_id=delivery_id))


def retry_delivery(*, session: Session, user_id: int, delivery_id: int) -> Delivery:
    """Redeliver one of the user's dead deliveries now: 404 when not theirs, 409 when it is
    not dead or its webhook is disabled."""
    delivery = get_delivery(session=session, delivery_id=delivery_id, user_id=user_id)
    if delivery is None:
        raise not_found("delivery", delivery_id)
    if delivery.status != DEAD:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"delivery {delivery_id} is {delivery.status}; only a dead delivery can be retried",
        )
    if delivery.channel_kind == WEBHOOK:
        webhook = get_webhook(session=session, webhook_id=delivery.channel_id, user_id=user_id)
        if webhook is None:
            raise HTTPException(
                status.HTTP_409_CONFLICT, f"webhook {delivery.channel_id} is deleted"
            )
        if not webhook.active:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                f"webhook {delivery.channel_id} is disabled ({webhook.disabled_reason}); turn "
                f'it on again with PATCH /v1/webhooks/{delivery.channel_id} {{"active": true}}',
            )
    if not redeliver(session=session, delivery_id=delivery_id, now=utcnow()):
        raise HTTPException(status.HTTP_409_CONFLICT, f"delivery {delivery_id} changed; retry")
    session.refresh(delivery)
    return delivery
