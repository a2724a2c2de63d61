from django.urls import path

from . import dashboards, impact, views

urlpatterns = [
    path("", views.home, name="home"),
    path("clients/", views.client_list, name="client_list"),
    path("clients/new/", views.client_new, name="client_new"),
    path("clients/<str:reference>/", views.client_detail, name="client_detail"),
    path("clients/<str:reference>/edit/", views.client_edit, name="client_edit"),
    path("clients/<str:reference>/history/", views.client_history, name="client_history"),
    path("clients/<str:reference>/printed/", views.client_printed, name="client_printed"),
    path("clients/<str:reference>/export/", views.client_export, name="client_export"),
    path("clients/<str:reference>/start/", views.client_start, name="client_start"),
    path("clients/<str:reference>/decline/", views.client_decline, name="client_decline"),
    path("clients/<str:reference>/assign/", views.client_assign, name="client_assign"),
    path("clients/<str:reference>/assign/end/", views.assignment_end, name="assignment_end"),
    path("clients/<str:reference>/close/", views.client_close, name="client_close"),
    path("clients/<str:reference>/transfer/", views.client_transfer, name="client_transfer"),
    path("clients/<str:reference>/sessions/new/", views.session_new, name="client_session_new"),
    path("clients/<str:reference>/offences/new/", views.offence_new, name="offence_new"),
    path("clients/<str:reference>/milestones/new/", views.milestone_new, name="milestone_new"),
    path("clients/<str:reference>/goals/new/", views.goal_new, name="goal_new"),
    path("clients/<str:reference>/placements/new/", views.placement_new, name="placement_new"),
    path("goals/<int:pk>/status/", views.goal_status, name="goal_status"),
    path("goals/<int:pk>/edit/", views.goal_edit, name="goal_edit"),
    path("offences/<int:pk>/edit/", views.offence_edit, name="offence_edit"),
    path("milestones/<int:pk>/edit/", views.milestone_edit, name="milestone_edit"),
    path("placements/<int:pk>/edit/", views.placement_edit, name="placement_edit"),
    path("sessions/new/", views.session_new, name="session_new"),
    path("sessions/<int:pk>/edit/", views.session_edit, name="session_edit"),
    path(
        "sessions/<int:pk>/safeguarding/",
        views.safeguarding_follow_up,
        name="safeguarding_follow_up",
    ),
    path("employers/", views.employer_list, name="employer_list"),
    path("mentors/", views.mentor_list, name="mentor_list"),
    path("mentors/<int:pk>/", views.mentor_detail, name="mentor_detail"),
    path("dashboard/", dashboards.network_dashboard, name="network_dashboard"),
    # Before the boroughs' dashboards, whose slug would otherwise match "replication".
    path(
        "dashboard/replication/",
        dashboards.replication_dashboard,
        name="replication_dashboard",
    ),
    path("dashboard/<slug:slug>/", dashboards.borough_dashboard, name="borough_dashboard"),
    path("reports/impact/", impact.impact_report, name="impact_report"),
]
