# ROS 2 launch file for the audited example robot (it is a Node.js process, not a ROS package
# executable, so it is started with ExecuteProcess). Run: ros2 launch ros2/examples/patrol_robot.launch.py
# On shutdown launch sends SIGINT, which the robot handles by closing its audit (last events) first.
from launch import LaunchDescription
from launch.actions import ExecuteProcess


def generate_launch_description():
    return LaunchDescription([
        ExecuteProcess(
            cmd=['node', '--import', 'tsx', 'ros2/examples/patrol_robot.ts'],
            cwd='/opt/pcp-edge',
            additional_env={'PCP_HOME': '/var/lib/pcp', 'PCP_AGENT': 'patrol_robot'},
            sigterm_timeout='20',
            output='screen',
        ),
    ])
