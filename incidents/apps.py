from django.apps import AppConfig
from django.db.models.signals import m2m_changed


class IncidentsConfig(AppConfig):
    name = "incidents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from incidents import alert_days, entity_index
        from incidents.models import Alert

        alert_days.connect()
        m2m_changed.connect(
            entity_index.links_changed,
            sender=Alert.entities.through,
            dispatch_uid="incidents.entity_index.links_changed",
        )
