"""KMS key policies, evaluated as AWS does (moto ignores them):

- every use of a key (Encrypt, Decrypt, GenerateDataKey*, DescribeKey, ...) is checked against
  its key policy with the caller as principal, `kms:CallerAccount`, and the request's encryption
  context as `kms:EncryptionContext:<key>`; a key of another account is reached by its ARN, as
  on AWS. A statement naming an account's root delegates to that account's IAM policies, which the
  emulator does not evaluate: it counts as allowing that account's principals.
- the lockout safety check: CreateKey and PutKeyPolicy refuse a policy that would not let the
  caller change it again (MalformedPolicyDocumentException), unless
  BypassPolicyLockoutSafetyCheck is set.
- eventual consistency: for `key_propagation` seconds after CreateKey, the calls that change the
  new key (CreateAlias, EnableKeyRotation, PutKeyPolicy, UpdateKeyDescription, TagResource,
  ScheduleKeyDeletion) answer NotFoundException, and CloudWatch Logs refuses it (logs.py), as
  AWS documents: "You might get unexpected errors, such as a NotFoundException or an
  InvalidStateException" (developerguide/accessing-kms.html#programming-eventual-consistency).
Sources: docs.aws.amazon.com/kms/latest/developerguide/key-policies.html,
.../key-policy-default.html#prevent-unmanageable-key, API_PutKeyPolicy.html.
"""

import json
import time

from . import identity
from .settings import SETTINGS
from .errors import json_error
from .policy import Principal, allows

LOCKOUT_MESSAGE = (
    "The new key policy will not allow you to update the key policy in the future."
)

# Operation → the action the key policy must allow.
_USES = {
    "encrypt": "kms:Encrypt",
    "decrypt": "kms:Decrypt",
    "generate_data_key": "kms:GenerateDataKey",
    "generate_data_key_without_plaintext": "kms:GenerateDataKeyWithoutPlaintext",
    "describe_key": "kms:DescribeKey",
    "re_encrypt": "kms:ReEncryptFrom",
    "get_key_rotation_status": "kms:GetKeyRotationStatus",
    "enable_key_rotation": "kms:EnableKeyRotation",
    "get_key_policy": "kms:GetKeyPolicy",
}


def find_key(key_ref, account, region):
    """The key a KeyId, key ARN, alias name or alias ARN names, or None."""
    from moto.kms.models import kms_backends

    if key_ref.startswith("arn:"):
        parts = key_ref.split(":", 5)
        if len(parts) != 6:
            return None
        region, account, resource = parts[3], parts[4], parts[5]
        key_ref = resource if resource.startswith("alias/") else resource.split("/", 1)[-1]
    try:
        backend = kms_backends[account][region]
        return backend.keys[backend.any_id_to_key_id(key_ref)]
    except Exception:
        return None


def key_allows(key, who, action, caller_account, encryption_context=None, extra=None):
    context = {"kms:CallerAccount": caller_account}
    for name, value in (encryption_context or {}).items():
        context[f"kms:EncryptionContext:{name}"] = value
    context.update(extra or {})
    return allows(key.policy, who, action, key.arn, context)


def _lockout_error(policy, caller, key_arn):
    if caller is None or not policy:
        return None
    if allows(policy, caller.principal(), "kms:PutKeyPolicy", key_arn, {"kms:CallerAccount": caller.account}):
        return None
    return json_error("MalformedPolicyDocumentException", LOCKOUT_MESSAGE)


def _guard_use(method_name, action):
    from moto.kms.responses import KmsResponse

    original = getattr(KmsResponse, method_name)

    def guarded(self):
        caller = identity.current_caller()
        key_ref = self._get_param("KeyId") or self._get_param("SourceKeyId")
        if caller is None or not key_ref:
            return original(self)
        key = find_key(key_ref, self.current_account, self.region)
        if key is None:
            return original(self)
        context = self._get_param("EncryptionContext") or self._get_param("SourceEncryptionContext") or {}
        if not key_allows(key, caller.principal(), action, caller.account, context):
            raise json_error(
                "AccessDeniedException",
                f"User: {caller.arn} is not authorized to perform: {action} on resource: {key.arn} "
                "because no resource-based policy allows the action",
            )
        if key.account_id != self.current_account:
            # Cross-account by ARN: served from the key owner's backend.
            self.current_account = key.account_id
        return original(self)

    setattr(KmsResponse, method_name, guarded)


def install():
    from moto.kms.responses import KmsResponse

    for method_name, action in _USES.items():
        if hasattr(KmsResponse, method_name):
            _guard_use(method_name, action)

    original_put = KmsResponse.put_key_policy

    def put_key_policy(self):
        if not self._get_param("BypassPolicyLockoutSafetyCheck"):
            caller = identity.current_caller()
            key = find_key(self._get_param("KeyId") or "", self.current_account, self.region)
            if key is not None and caller is not None:
                if not key_allows(key, caller.principal(), "kms:PutKeyPolicy", caller.account):
                    raise json_error(
                        "AccessDeniedException",
                        f"User: {caller.arn} is not authorized to perform: kms:PutKeyPolicy",
                    )
                error = _lockout_error(self._get_param("Policy"), caller, key.arn)
                if error is not None:
                    raise error
        return original_put(self)

    KmsResponse.put_key_policy = put_key_policy

    original_create = KmsResponse.create_key

    def create_key(self):
        if not self._get_param("BypassPolicyLockoutSafetyCheck"):
            caller = identity.current_caller()
            key_arn = f"arn:aws:kms:{self.region}:{self.current_account}:key/*"
            error = _lockout_error(self._get_param("Policy"), caller, key_arn)
            if error is not None:
                raise error
        return original_create(self)

    KmsResponse.create_key = create_key
    install_lag()


# Key id → when CreateKey made it (monotonic seconds).
CREATED = {}

# Key id → when its tags last changed (CreateKey with Tags, TagResource).
TAGGED = {}


def tags_authorize(key):
    """Whether the key's tags count in authorization yet (ABAC lags behind tag changes)."""
    changed = TAGGED.get(key.id)
    return changed is None or time.monotonic() - changed >= SETTINGS.tag_authorization

# Operation → the parameter that names the key it changes.
_LAGGING = {
    "create_alias": "TargetKeyId",
    "enable_key_rotation": "KeyId",
    "put_key_policy": "KeyId",
    "update_key_description": "KeyId",
    "tag_resource": "KeyId",
    "schedule_key_deletion": "KeyId",
}


def propagating(key):
    """Whether `key` is still too new to be known everywhere."""
    made = CREATED.get(key.id)
    return made is not None and time.monotonic() - made < SETTINGS.key_propagation


def _lagging(method_name, param):
    from moto.kms.responses import KmsResponse

    original = getattr(KmsResponse, method_name)

    def lagging(self):
        key = find_key(self._get_param(param) or "", self.current_account, self.region)
        if key is not None and propagating(key):
            raise json_error("NotFoundException", f"Key '{key.arn}' does not exist")
        return original(self)

    setattr(KmsResponse, method_name, lagging)


def install_lag():
    from moto.kms.responses import KmsResponse

    for method_name, param in _LAGGING.items():
        if hasattr(KmsResponse, method_name):
            _lagging(method_name, param)
    original_create = KmsResponse.create_key

    def create_key(self):
        answer = original_create(self)
        try:
            key_id = json.loads(answer)["KeyMetadata"]["KeyId"]
        except (ValueError, KeyError, TypeError):
            return answer
        CREATED[key_id] = time.monotonic()
        if self._get_param("Tags"):
            TAGGED[key_id] = CREATED[key_id]
        return answer

    KmsResponse.create_key = create_key
    original_tag = KmsResponse.tag_resource

    def tag_resource(self):
        answer = original_tag(self)
        key = find_key(self._get_param("KeyId") or "", self.current_account, self.region)
        if key is not None:
            TAGGED[key.id] = time.monotonic()
        return answer

    KmsResponse.tag_resource = tag_resource


def service_may(key, service, action, context):
    """Whether a key policy lets an AWS service principal use the key with this context."""
    return allows(key.policy, Principal.service(service), action, key.arn, context)

