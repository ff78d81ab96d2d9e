"""Cloud-side training of DiM generators (arXiv 2303.04707) for DatasetQuant devices."""
