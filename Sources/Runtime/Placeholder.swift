enum _PlaceholderRuntime {}
