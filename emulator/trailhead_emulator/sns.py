"""SNS subscriptions as AWS lists them: an email subscription stays PendingConfirmation (its
SubscriptionArn reads "PendingConfirmation") until its owner follows the link in the mail; moto
confirms at once. Here a test or the demo confirms through the control API
(POST /_trailhead/sns/confirm?topic=ARN, or every topic without `topic`). Source:
docs.aws.amazon.com/sns/latest/api/API_Subscribe.html, API_ListSubscriptionsByTopic.html.
"""

import copy
import threading
import time

NEEDS_CONFIRMATION = ("email", "email-json")
PENDING = "PendingConfirmation"

# Real subscription ARNs whose owner "clicked the link".
CONFIRMED = set()

# Topic ARN → when its policy was last written (monotonic seconds): CloudTrail sees a new policy
# only after `topic_policy_propagation` (cloudtrail.py).
POLICY_WRITTEN = {}


def policy_visible(topic_arn):
    from .settings import SETTINGS

    written = POLICY_WRITTEN.get(topic_arn)
    return written is None or time.monotonic() - written >= SETTINGS.topic_policy_propagation


# What confirmed email subscriptions received, oldest first (GET /_trailhead/sns/notifications).
NOTIFICATIONS = []
_LOCK = threading.Lock()


def deliver(topic_arn, subject, message):
    """Sends a published message to the topic's confirmed email subscriptions; an unconfirmed one
    receives nothing, as on AWS. Returns how many received it."""
    from moto.sns.models import sns_backends

    parts = topic_arn.split(":")
    backend = sns_backends[parts[4]][parts[3]]
    sent = 0
    for s in list(backend.subscriptions.values()):
        if s.topic.arn != topic_arn or s.protocol not in NEEDS_CONFIRMATION or s.arn not in CONFIRMED:
            continue
        with _LOCK:
            NOTIFICATIONS.append({
                "topic_arn": topic_arn, "subscription_arn": s.arn, "protocol": s.protocol,
                "endpoint": s.endpoint, "subject": subject, "message": message, "time": time.time(),
            })
        sent += 1
    return sent


def notifications(topic_arn=None):
    with _LOCK:
        return [n for n in NOTIFICATIONS if topic_arn is None or n["topic_arn"] == topic_arn]


def as_listed(subscription):
    if subscription.protocol in NEEDS_CONFIRMATION and subscription.arn not in CONFIRMED:
        shown = copy.copy(subscription)
        shown.arn = PENDING
        return shown
    return subscription


def confirm(topic_arn=None, accounts=None):
    """Confirms every pending email subscription of a topic (of every topic when None, of the
    topics of `accounts` when given); returns how many were pending. Tests running side by side
    confirm their own accounts' subscriptions only: another test may be checking that an
    unconfirmed one is reported."""
    from moto.sns.models import sns_backends

    backends = []
    if topic_arn:
        parts = topic_arn.split(":")
        if len(parts) != 6:
            return 0
        backends = [sns_backends[parts[4]][parts[3]]]
    else:
        backends = [
            b for account, regions in list(sns_backends.items())
            if accounts is None or account in accounts
            for b in list(regions.values())
        ]
    pending = [
        s.arn for backend in backends for s in list(backend.subscriptions.values())
        if (topic_arn is None or s.topic.arn == topic_arn)
        and s.protocol in NEEDS_CONFIRMATION and s.arn not in CONFIRMED
    ]
    CONFIRMED.update(pending)
    return len(pending)


def install():
    from moto.sns.models import SNSBackend

    original_by_topic = SNSBackend.list_subscriptions_by_topic

    def list_subscriptions_by_topic(self, topic_arn, next_token=None):
        subscriptions, token = original_by_topic(self, topic_arn, next_token)
        return [as_listed(s) for s in subscriptions], token

    SNSBackend.list_subscriptions_by_topic = list_subscriptions_by_topic

    original_all = SNSBackend.list_subscriptions

    def list_subscriptions(self, *args, **kwargs):
        subscriptions, token = original_all(self, *args, **kwargs)
        return [as_listed(s) for s in subscriptions], token

    SNSBackend.list_subscriptions = list_subscriptions

    original_set = SNSBackend.set_topic_attribute

    def set_topic_attribute(self, topic_arn, attribute_name, attribute_value):
        original_set(self, topic_arn, attribute_name, attribute_value)
        if attribute_name.lower() == "policy":
            POLICY_WRITTEN[topic_arn] = time.monotonic()

    SNSBackend.set_topic_attribute = set_topic_attribute
