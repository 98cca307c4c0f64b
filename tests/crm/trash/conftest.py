from tests.crm.clients.conftest import region_ru, rex

__all__ = ["region_ru", "rex"]
