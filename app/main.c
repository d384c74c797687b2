#include <stdio.h>
#include "graph.h"
int main(int argc, char **argv) { return 0; }
