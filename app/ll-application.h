/* ll-application.h: the GtkApplication org.layerlab.LayerLab. */
#pragma once

int ll_application_run(int argc, char **argv);
