"""The bridge's decisions, free of ROS and Zenoh: which samples to forward, how to batch
them, what each stream is called on the wire and what the vehicle's catalogue says."""
