from incidents.views.pages import alert_detail, alert_list, home, incident_detail, incident_list

__all__ = ["alert_detail", "alert_list", "home", "incident_detail", "incident_list"]
