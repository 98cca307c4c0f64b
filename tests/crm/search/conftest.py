from tests.crm.clients.conftest import acme, alice, region_ru, rex

__all__ = ["acme", "alice", "region_ru", "rex"]
