"""chorus_devstack: the local stack (real Kafka, PostgreSQL, Redis without Docker) and the
pytest fixtures that find or start it. Importing this package stays cheap: the pytest
plugin is loaded by every test run, including unit-only ones.
"""

from chorus_devstack.control import EngineControl, KafkaControl

__all__ = ["EngineControl", "KafkaControl"]
