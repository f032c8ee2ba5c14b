enum _PlaceholderKeyLoader {}
