"""The classroom: a class's apps and the servers that serve them (``make classroom``,
``make classroom-static``).

``apps`` (the scale slider and the broadcasting playground for light Voilà kernels, no
TensorFlow), ``figure`` and ``frame_cache`` (the slider's frames, drawn once per machine),
``pool_wait`` (a preheated kernel waits for its student), ``kernel_manager`` and ``seats``
(the pool: started in waves, failed seats replaced, seats counted and announced),
``network`` (the URLs students type, and their QR codes) and ``static_server`` (the static
pages for a class of any size). The top layer: it may use every other folder, and nothing
imports it.
"""
