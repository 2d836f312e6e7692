"""The fixed encryption key every test runs under (storage.crypto), in-process and in subprocesses.

tests/conftest.py installs it as the process-wide keyring; a bot or CLI run as a subprocess
gets it as GROWTH_ENCRYPTION_KEY (`TEST_KEY_ENV`), so both read and write the same ciphertext.
"""

from storage.crypto import Keyring

TEST_KEY = "dGVzdC1rZXktZm9yLWdyb3d0aC1ib3QtdGVzdHMtMDE="
TEST_KEY_ENV = {"GROWTH_ENCRYPTION_KEY": TEST_KEY}


def fixed_keyring() -> Keyring:
    return Keyring.from_texts([TEST_KEY])
