"""Baton's gateway: owns every conversation between the widget, Rasa and the agents."""
