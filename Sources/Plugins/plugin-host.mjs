// the plugin host is being written
