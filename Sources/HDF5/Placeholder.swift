// HDF5: placeholder, replaced as the module is written.
