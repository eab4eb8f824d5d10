"""Simulated vehicle: motion model and publishing schedule, free of ROS so tests call them directly."""
