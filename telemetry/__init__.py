"""Fleet telemetry for ROS 2 robots over Zenoh."""
