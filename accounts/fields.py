"""An encrypted secret column that fails loudly instead of leaking ciphertext.

django-encrypted-model-fields encrypts with Fernet under ``FIELD_ENCRYPTION_KEY`` (a list:
any key decrypts, the first encrypts). Its stock field hands back the *ciphertext* when no
key fits, which would then be sent to GoKarla as the password. This field returns
``UNDECRYPTABLE`` instead, which the model turns into a clear error.
"""

import cryptography.fernet
from encrypted_model_fields import fields as encrypted


class _Undecryptable(str):
    """Marks a stored secret that none of the configured keys can decrypt."""

    def __repr__(self) -> str:
        return "<undecryptable secret>"


UNDECRYPTABLE = _Undecryptable("")


class EncryptedSecretField(encrypted.EncryptedCharField):
    def from_db_value(self, value, *args, **kwargs):
        if value is None:
            return None
        try:
            return encrypted.decrypt_str(value)
        except cryptography.fernet.InvalidToken:
            return UNDECRYPTABLE

    def to_python(self, value):
        # Values assigned in Python (forms, code) are plain text; only the database holds
        # ciphertext, and from_db_value decrypts that.
        return value

    def get_db_prep_save(self, value, connection):
        if value is UNDECRYPTABLE:
            raise ValueError("Refusing to save a secret that could not be decrypted.")
        return super().get_db_prep_save(value, connection)
