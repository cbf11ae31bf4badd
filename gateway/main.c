#include <stdio.h>

int main(void)
{
    printf("todo-gateway %s\n", GW_VERSION);
    return 0;
}
