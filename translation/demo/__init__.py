"""Self-contained demos that build their data from the photos shipped inside scikit-image."""
