"""Self-contained demos: each builds its data here (rendered still lifes, the photos and digits that ship with
scikit-image and scikit-learn), so nothing is downloaded."""
